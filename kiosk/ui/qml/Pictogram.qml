import QtQuick

// An SVG pictogram from assets/pictograms, rendered sharp at its on-screen size.
Image {
    property string name
    source: name ? assetsUrl + "pictograms/" + name + ".svg" : ""
    sourceSize.width: width
    sourceSize.height: height
    fillMode: Image.PreserveAspectFit
    smooth: true
    Accessible.ignored: true   // the text beside it names the action
}
